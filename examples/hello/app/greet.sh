#!/bin/sh
# Prints what the build left behind, proving COPY, RUN and USER took effect.
echo "greet.sh running as $(id -un) in $(pwd)"
cat /app/data/built.txt
cat /app/message.txt
