build-san/cgi/main.o: cgi/main.c
