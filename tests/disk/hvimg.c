/* `hv img` without core/main.c: what tests and benchmarks run. */
#include "disk.h"

int main(int argc, char **argv)
{
	return img_main(argc - 1, argv + 1);
}
