build-san/snapshot/source_files.o: snapshot/source_files.c \
 snapshot/source.h snapshot/rows.h
snapshot/source.h:
snapshot/rows.h:
