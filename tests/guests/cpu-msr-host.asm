; hv-test: exit=0
; Unadvertised MSRs raise #GP (issue 15, defect 3) under the default CPU
; model (cpu = host): see include/msrwalk.inc for the table.
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
