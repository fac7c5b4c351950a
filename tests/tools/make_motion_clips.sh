#!/bin/sh
# Labelled clips for `vms-ai eval` (docs/ai.md "Evaluating the motion trigger"), built with ffmpeg
# from Debian's opencv-doc pedestrians (vtest.avi, 768x576, 10 fps; auto/packages.sh installs
# opencv-doc), so no video is stored in the repository.  All clips are 640x480, 10 fps, H.264, with
# light sensor noise; each CLIP.mp4 has a CLIP.json ground truth {"intervals":[{"start","end"}]}:
#   vtest   5 s of a frozen frame, then 15 s of vtest.avi: people walk during [5, 20]
#   intruder  a still frame, a dark 32x96 box (1 % of the frame, a distant person) walks from
#           x = 40 across the street during [4, 12] s; still again until 16 s
#   ramp    a still frame darkening slowly (brightness -0.2) over 20 s; nothing moves
#   jump    a still frame; at 6 s it turns grey, darker and flatter (an IR switch); nothing moves
# usage: make_motion_clips.sh OUTDIR
set -eu
out=${1:?usage: make_motion_clips.sh OUTDIR}
src=${VTEST:-/usr/share/doc/opencv-doc/examples/data/vtest.avi}
[ -r "$src" ] || { echo "make_motion_clips.sh: $src missing (apt-get install opencv-doc)" >&2; exit 1; }
mkdir -p "$out"
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
enc="-an -c:v libx264 -preset ultrafast -crf 28 -pix_fmt yuv420p -r 10"
scale="scale=640:480,setsar=1"
noise="noise=alls=3:allf=t"

# one still picture of the street (first frame), 640x480
ff -i "$src" -frames:v 1 -vf "$scale" "$out/still.png"

# (a) vtest: frozen first frame 5 s, then 15 s of walking
# shellcheck disable=SC2086
ff -loop 1 -t 5 -framerate 10 -i "$out/still.png" -t 15 -i "$src" \
   -filter_complex "[0:v]format=yuv420p[a];[1:v]$scale,fps=10,format=yuv420p[b];[a][b]concat=n=2:v=1,$noise" \
   $enc "$out/vtest.mp4"
echo '{"intervals":[{"start":5,"end":20}]}' >"$out/vtest.json"

# (b) intruder: 32x96 = 3072 px = 1.0 % of 640x480, 40 px/s during [4, 12]
# shellcheck disable=SC2086
ff -loop 1 -t 16 -framerate 10 -i "$out/still.png" -f lavfi -i "color=c=0x202020:s=32x96:r=10:d=16" \
   -filter_complex "[0:v][1:v]overlay=x='if(between(t,4,12),40+(t-4)*40,-200)':y=300:eval=frame,$noise" \
   $enc "$out/intruder.mp4"
echo '{"intervals":[{"start":4,"end":12,"boxes":[{"x":40,"y":300,"width":352,"height":96}]}]}' \
    >"$out/intruder.json"

# (c) ramp: brightness falls by 0.2 over 20 s (dusk), no object
# shellcheck disable=SC2086
ff -loop 1 -t 20 -framerate 10 -i "$out/still.png" \
   -vf "eq=eval=frame:brightness='-0.2*t/20',$noise" $enc "$out/ramp.mp4"
echo '{"intervals":[]}' >"$out/ramp.json"

# (d) jump: at 6 s colour off, darker, less contrast (IR cut filter), no object
# shellcheck disable=SC2086
ff -loop 1 -t 12 -framerate 10 -i "$out/still.png" \
   -vf "eq=eval=frame:brightness='if(gte(t,6),-0.25,0)':contrast='if(gte(t,6),0.6,1)':saturation='if(gte(t,6),0,1)',$noise" \
   $enc "$out/jump.mp4"
echo '{"intervals":[]}' >"$out/jump.json"
rm -f "$out/still.png"
