; hv-test: exit=42
; The value written to the debug-exit port becomes hv's exit status.
%include "hv.inc"
bits 16
org 0x7c00
        EXIT 42
