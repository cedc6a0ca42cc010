mkdir -p ctx
echo linked > ctx/one
ln ctx/one ctx/two
mkdir ctx/d
ln ctx/one ctx/d/three
