build-san/snapshot/main.o: snapshot/main.c
