# Sourced by the build benchmarks (bench/build, bench/rootless): the multi-step context they time.
#
#   make_build_context DIR   50 random 4 KiB source files, one.txt ("one": the file the one-file
#                            rebuild changes) and a Dockerfile FROM bench-base:latest with ENV,
#                            WORKDIR, two COPYs and three RUNs.

make_build_context() {
  local ctx=$1 i
  mkdir -p "$ctx/src"
  for i in $(seq 1 50); do head -c 4096 /dev/urandom | base64 > "$ctx/src/f$i.txt"; done
  echo one > "$ctx/one.txt"
  cat > "$ctx/Dockerfile" <<'DF'
FROM bench-base:latest
ENV APP=/app
WORKDIR /app
COPY src/ ./src/
RUN cat src/*.txt | wc -c > total && ls src > list
RUN echo "second step" > second
COPY one.txt ./
RUN sha256sum one.txt > one.sum
CMD ["cat", "/app/one.sum"]
DF
}
