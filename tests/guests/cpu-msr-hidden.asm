; hv-test: exit=0
; hv-vm: cpu = host,-spec-ctrl,-stibp,-ssbd,-arch-capabilities,-rdtscp,-rdpid,-ibpb,-ibrs,-amd-stibp,-amd-ssbd,-flush-l1d,-tsc-adjust
; Unadvertised MSRs raise #GP (issue 15, defect 3) under a CPU
; model that hides them (cpu = host,-spec-ctrl,-arch-capabilities,-rdtscp,-ibpb): see include/msrwalk.inc for the table.
%include "hv.inc"
%include "exc.inc"
%include "msrwalk.inc"
        EXC_ENTER
bits 64
        MSR_WALK
        EXC_DONE
MSR_DATA
EXC_GDT
EXC_FUNCS
PUTS_FUNCS
