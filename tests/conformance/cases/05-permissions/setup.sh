mkdir -p ctx/dir700 ctx/dir2775
echo x > ctx/exec && chmod 0755 ctx/exec
echo y > ctx/ro && chmod 0444 ctx/ro
echo z > ctx/suid && chmod 4750 ctx/suid
echo w > ctx/dir700/f && chmod 0600 ctx/dir700/f && chmod 0700 ctx/dir700
chmod 2775 ctx/dir2775
echo owned > ctx/owned && chown 1234:5678 ctx/owned
