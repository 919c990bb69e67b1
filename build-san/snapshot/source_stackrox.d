build-san/snapshot/source_stackrox.o: snapshot/source_stackrox.c \
 snapshot/source.h snapshot/rows.h
snapshot/source.h:
snapshot/rows.h:
