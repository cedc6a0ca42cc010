mkdir -p ctx
echo plain > ctx/plain
ln -s plain ctx/link-rel
ln -s /etc/passwd ctx/link-abs
