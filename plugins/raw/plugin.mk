PLUGINS += raw
raw_SRCS := plugins/raw/raw.c
raw_LIBS :=
