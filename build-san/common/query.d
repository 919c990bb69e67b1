build-san/common/query.o: common/query.c common/query.h common/bitmap.h \
 common/idx.h
common/query.h:
common/bitmap.h:
common/idx.h:
