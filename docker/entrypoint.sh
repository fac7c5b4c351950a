#!/bin/sh
# Starts vmsd and nginx (foreground); the config files are mounted at /etc/vms.
set -e
vmsd -c /etc/vms/vmsd.conf &
exec nginx -c /etc/vms/nginx.conf -g 'daemon off;'
