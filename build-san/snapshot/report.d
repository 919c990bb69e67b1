build-san/snapshot/report.o: snapshot/report.c snapshot/report.h \
 snapshot/rows.h
snapshot/report.h:
snapshot/rows.h:
