# stackd as a container image: a build stage with the -dev packages, then
# Debian slim with only the run-time libraries.
#
#   docker build -t stackd .
#   docker stack deploy -c contrib/swarm/stackd.yml stackd   (see that file)
#
# stackd talks to the engine through /var/run/docker.sock, which is
# root's (or the docker group's) on the host; the image runs as root for
# that reason and needs nothing else.
FROM debian:bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
        gcc make pkg-config libc6-dev libgit2-dev libyaml-dev libcjson-dev \
        libcurl4-openssl-dev libssl-dev libmicrohttpd-dev libseccomp-dev \
        libcmocka-dev git \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make clean && make all PREFIX=/usr && make install PREFIX=/usr DESTDIR=/out

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
        libgit2-1.5 libyaml-0-2 libcjson1 libcurl4 libssl3 libmicrohttpd12 \
        libseccomp2 \
        ca-certificates openssh-client \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/usr/bin/stackd /usr/bin/stackd
COPY --from=build /out/usr/share/man /usr/share/man
# The git cache; keep it on a volume so a restart does not clone again.
ENV STATE_DIRECTORY=/var/lib/stackd
VOLUME /var/lib/stackd
EXPOSE 9090
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/stackd"]
CMD ["run", "-c", "/etc/stackd/stackd.yaml"]
