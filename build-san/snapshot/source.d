build-san/snapshot/source.o: snapshot/source.c snapshot/source.h \
 snapshot/rows.h
snapshot/source.h:
snapshot/rows.h:
