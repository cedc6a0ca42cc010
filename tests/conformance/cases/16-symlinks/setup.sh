mkdir -p dir
ln -s file link-to-file
ln -s dir linkdir
echo inner > dir/inner
ln -s inner dir/rel
ln -s /etc/passwd dir/abs
ln -s ../file dir/up
ln -s missing dir/dangling
