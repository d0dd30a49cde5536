#include "vmstub.h"
int main(void) { return 0; }
