build-san/common/bitmap.o: common/bitmap.c common/bitmap.h common/util.h
common/bitmap.h:
common/util.h:
