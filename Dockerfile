# Dockerfile - polsnap's container image: Debian 12 slim with lighttpd and the runtime libraries
# only, running as the non-root user polsnap (uid 65532). Two stages: the build (compilers and
# -dev packages) and the runtime, which gets only `make install`'s binaries and data files.
#   podman run -p 8080:8080 IMAGE                       the server (lighttpd + FastCGI)
#   podman run -v ...:/var/lib/polsnap IMAGE polsnap-snapshot   one run of the snapshot job
#   podman run -v ...:/var/lib/polsnap IMAGE polsnap-report     one run of the email reports
# make image builds it (deploy/image.sh: the base made from Debian's packages when no registry
# is reachable); deploy/ runs both commands in one Kubernetes pod.
ARG BASE=debian:12-slim

FROM ${BASE} AS build
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        gcc libc6-dev make libfcgi-dev libcjson-dev libyaml-dev libcurl4-openssl-dev libssl-dev \
        zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY common common
COPY snapshot snapshot
COPY cgi cgi
COPY report report
COPY www www
COPY deploy deploy
COPY lighttpd.conf cron ./
RUN make -j"$(nproc)" all && make install DESTDIR=/out PREFIX=/usr

FROM ${BASE}
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        lighttpd libfcgi0ldbl libcjson1 libyaml-0-2 libcurl4 libssl3 zlib1g ca-certificates \
    && rm -rf /var/lib/apt/lists/* /var/log/apt /var/log/dpkg.log /etc/lighttpd/conf-enabled/* \
    && groupadd --system --gid 65532 polsnap \
    && useradd --system --uid 65532 --gid polsnap --home-dir /var/lib/polsnap --no-create-home \
        --shell /usr/sbin/nologin polsnap \
    && install -d -o polsnap -g polsnap -m 0750 /var/lib/polsnap
COPY --from=build /out/usr/bin/polsnap-snapshot /out/usr/bin/polsnap-report /usr/bin/
COPY --from=build /out/usr/libexec/polsnap /usr/libexec/polsnap
COPY --from=build /out/usr/share/polsnap /usr/share/polsnap
# The settings of polsnap.env, as the container's environment (override with -e or env:).
ENV POLSNAP_SOURCES=kubernetes \
    POLSNAP_DATA=/var/lib/polsnap \
    POLSNAP_CRON_PERIOD=300 \
    POLSNAP_KEEP=3 \
    POLSNAP_BIND=0.0.0.0 \
    POLSNAP_PORT=8080 \
    POLSNAP_FCGI=/usr/libexec/polsnap/polsnap-fcgi \
    POLSNAP_WWW=/usr/share/polsnap/www
# The FastCGI socket goes to lighttpd-env.sh's default, a private directory under /tmp: the
# one place a read-only container (podman --read-only, Kubernetes' emptyDir) lets it write.
USER 65532:65532
WORKDIR /var/lib/polsnap
VOLUME /var/lib/polsnap
EXPOSE 8080
CMD ["lighttpd", "-D", "-f", "/usr/share/polsnap/lighttpd.conf"]
