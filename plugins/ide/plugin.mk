PLUGINS += ide
ide_SRCS := plugins/ide/ide.c plugins/ide/ata.c plugins/ide/atapi.c \
	plugins/ide/bmdma.c $(wildcard plugins/common/scsi.c)
ide_LIBS :=
