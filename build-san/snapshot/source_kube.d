build-san/snapshot/source_kube.o: snapshot/source_kube.c \
 snapshot/source.h snapshot/rows.h
snapshot/source.h:
snapshot/rows.h:
