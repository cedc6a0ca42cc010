mkdir -p t/dir/deeper
echo one > t/dir/one
echo two > t/dir/deeper/two
chmod 0750 t/dir/deeper
ln -s one t/dir/link
ln t/dir/one t/dir/hard
(cd t && tar --owner=1000 --group=1000 -cf ../plain.tar dir)
(cd t && tar --owner=0 --group=0 -czf ../archive.tar.gz dir)
rm -rf t
echo "not a tar at all" > notatar.tar
