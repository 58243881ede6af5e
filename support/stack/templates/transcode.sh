#!/bin/sh
# contract: ladder. The renditions of one live stream, from one ffmpeg that nginx-rtmp starts
# with the publish (exec_push, argument: the stream id) and kills when it ends:
#   {id}_src   the broadcaster's own audio and video, copied
#   {id}_180p  240x180, 25 fps, H.264 capped at 100 kbit/s, the audio copied
#   {id}_120p  160x120, 25 fps, H.264 capped at 40 kbit/s, the audio copied
# Every rendition keeps the source's keyframes and timestamps (and its SEI stamps), so the
# segments line up. ffmpeg's warnings and errors go to the transcoder log, after a line naming
# the stream; exec, so the process nginx-rtmp kills is ffmpeg itself and nothing is left behind.
set -u
id="$1"
in="rtmp://{{rtmp_local}}/live/$id"
out="rtmp://{{rtmp_local}}/ladder/$id"
# The service lets only the transcoder publish here: it presents the ingest's token as the
# SWF URL (a connect field), which ffmpeg prints nowhere (a URL's query it prints with every error).
key="{{webhook_token}}"
low() {
    echo -map 0:v -map 0:a -c:a copy -c:v libx264 -preset veryfast -tune zerolatency \
        -profile:v baseline -pix_fmt yuv420p -force_key_frames source -udu_sei 1 \
        -vf "scale=$1" -b:v "$2" -maxrate "$2" -bufsize "$2"
}
log="{{log_dir}}/transcoder.log"
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $id: transcoder started" >> "$log"
exec ffmpeg -nostdin -hide_banner -loglevel warning -fflags nobuffer -i "$in" \
    -map 0:v -map 0:a -c copy -rtmp_swfurl "$key" -f flv "${out}_src" \
    $(low 240:180 100k) -rtmp_swfurl "$key" -f flv "${out}_180p" \
    $(low 160:120 40k) -rtmp_swfurl "$key" -f flv "${out}_120p" \
    2>> "$log"
