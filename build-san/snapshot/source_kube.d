build-san/snapshot/source_kube.o: snapshot/source_kube.c \
 snapshot/source.h snapshot/rows.h common/buf.h snapshot/http.h \
 snapshot/kubeconfig.h snapshot/report.h common/util.h
snapshot/source.h:
snapshot/rows.h:
common/buf.h:
snapshot/http.h:
snapshot/kubeconfig.h:
snapshot/report.h:
common/util.h:
