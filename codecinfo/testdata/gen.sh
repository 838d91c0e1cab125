#!/usr/bin/env bash
# gen.sh remakes the codec configuration vectors in this directory and ffprobe.txt,
# the values ffprobe reports for the file each vector was cut from.
#
# Needs Debian 12's ffmpeg (5.1) and the project's ffmpeg7 / ffmpeg9 wrappers
# (../shared/tools from the repository root). Run from this directory:
#   bash gen.sh
# Encoders are not bit-exact across versions, so a rerun may change bytes; the test
# reads ffprobe.txt, so vectors and expectations always change together.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tools=${TOOLS:-$here/../../../../shared/tools}
F5=ffmpeg
F7="$tools/ffmpeg7 ffmpeg"
F9="$tools/ffmpeg9 ffmpeg"
PROBE="$tools/ffmpeg9 ffprobe"
work=$(mktemp -d /tmp/codecinfo-gen.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
: >"$here/ffprobe.txt"

Q=(-hide_banner -loglevel error -y)
vsrc() { echo "-f lavfi -i testsrc2=size=$1:rate=25 -t 0.2"; }
asrc() { echo "-f lavfi -i sine=frequency=440:sample_rate=$1 -t 0.3"; }

# extract NAME FILE MODE [MAXBYTES]: cut the vector, then record what ffprobe says.
# MODE is a flvextract mode; araw and vivf are its raw and ivf modes for audio and video.
extract() {
	local name=$1 file=$2 mode=$3 max=${4:-}
	local sel=v:0 how=$mode
	case $mode in a*) sel=a:0 ;; esac
	case $mode in araw) how=raw ;; vivf) how=ivf ;; vavif) how=avif ;; esac
	go run "$here/flvextract.go" "$file" "$how" "$here/$name.bin" $max
	probe "$name" "$file" $sel
}

# probe NAME FILE SELECTOR: append ffprobe's view of FILE to ffprobe.txt.
probe() {
	printf '%s|%s\n' "$1" "$($PROBE -v error -select_streams "$3" \
		-show_entries stream=codec_name,profile,level,width,height,pix_fmt,sample_rate,channels,bits_per_raw_sample,bit_rate \
		-of compact=p=0:nk=0 "$2")" >>"$here/ffprobe.txt"
}

# H.264 (legacy FLV, AVCDecoderConfigurationRecord)
$F5 "${Q[@]}" $(vsrc 642x362) -c:v libx264 -pix_fmt yuv420p avc_high.flv
extract avc_high avc_high.flv vconfig
$F5 "${Q[@]}" $(vsrc 642x362) -c:v libx264 -pix_fmt yuv420p10le avc_high10.flv
extract avc_high10 avc_high10.flv vconfig
$F5 "${Q[@]}" $(vsrc 322x242) -c:v libx264 -pix_fmt yuv422p10le avc_high422.flv
extract avc_high422 avc_high422.flv vconfig
$F5 "${Q[@]}" $(vsrc 322x244) -vf scale=321:243 -c:v libx264 -pix_fmt yuv444p avc_high444.flv
extract avc_high444 avc_high444.flv vconfig
$F5 "${Q[@]}" $(vsrc 176x144) -c:v libx264 -profile:v baseline avc_baseline.flv
extract avc_baseline avc_baseline.flv vconfig
$F5 "${Q[@]}" $(vsrc 642x364) -c:v libx264 -profile:v main -flags +ildct+ilme -x264-params tff=1 avc_interlaced.flv
extract avc_main_interlaced avc_interlaced.flv vconfig
$F5 "${Q[@]}" $(vsrc 330x250) -c:v libx264 -x264-params "cqm4=$(seq -s, 6 21):cqm8=$(seq -s, 9 72)" avc_cqm.flv
extract avc_high_cqm avc_cqm.flv vconfig
$F5 "${Q[@]}" $(vsrc 322x182) -c:v libx264 -pix_fmt gray avc_gray.flv
extract avc_high_gray avc_gray.flv vconfig

# A hand-made H.264 SPS (raw NAL unit, for ParseAVCSPS) with scaling lists,
# pic_order_cnt_type 1, cropping and emulation prevention, spliced into a real
# stream so that ffprobe decodes with it; see mksps.go.
$F5 "${Q[@]}" $(vsrc 176x144) -c:v libx264 -profile:v baseline -f h264 base.h264
field() { $F5 -hide_banner -i base.h264 -c copy -bsf:v trace_headers -f null - 2>&1 | awk -v f="$1" '$5 == f { print $NF; exit }'; }
go run "$here/mksps.go" base.h264 crafted.h264 "$here/avcsps_poc1_scaling.bin" \
	"$(field log2_max_frame_num_minus4)" "$(field max_num_ref_frames)"
probe avcsps_poc1_scaling crafted.h264 v:0

# HEVC (Enhanced RTMP hvc1, HEVCDecoderConfigurationRecord)
$F7 "${Q[@]}" $(vsrc 642x362) -c:v libx265 -x265-params log-level=error:info=0 hevc_main.flv
extract hevc_main hevc_main.flv vconfig
$F7 "${Q[@]}" $(vsrc 322x242) -c:v libx265 -pix_fmt yuv420p10le -x265-params log-level=error:info=0 hevc_main10.flv
extract hevc_main10 hevc_main10.flv vconfig
$F7 "${Q[@]}" $(vsrc 322x244) -vf scale=321:243 -c:v libx265 -pix_fmt yuv444p -x265-params log-level=error:info=0 hevc_444.flv
extract hevc_rext444 hevc_444.flv vconfig
$F7 "${Q[@]}" $(vsrc 322x242) -c:v libx265 -x265-params log-level=error:info=0:temporal-layers=3 hevc_temporal.flv
extract hevc_main_sublayers hevc_temporal.flv vconfig

# AV1 (Enhanced RTMP av01, AV1CodecConfigurationRecord with a sequence header OBU)
$F7 "${Q[@]}" $(vsrc 642x362) -c:v libsvtav1 -svtav1-params lp=1 av1_svt.flv
extract av1_main av1_svt.flv vconfig
$F7 "${Q[@]}" $(vsrc 322x244) -vf scale=321:243 -c:v libaom-av1 -cpu-used 8 -pix_fmt yuv420p10le av1_aom10.flv
extract av1_main10 av1_aom10.flv vconfig
$F7 "${Q[@]}" $(vsrc 322x242) -c:v libaom-av1 -cpu-used 8 -pix_fmt yuv444p av1_aom444.flv
extract av1_high444 av1_aom444.flv vconfig
$F7 "${Q[@]}" $(vsrc 322x242) -c:v libaom-av1 -cpu-used 8 -aom-params timing-info=model av1_timing.flv
extract av1_main_decoder_model av1_timing.flv vconfig
$F7 "${Q[@]}" $(vsrc 322x242) -frames:v 1 -c:v libaom-av1 -cpu-used 8 -still-picture 1 av1_still.avif
extract av1_main_reduced_still av1_still.avif vavif

# VP9 (Enhanced RTMP vp09, VPCodecConfigurationRecord) and its keyframe header
$F7 "${Q[@]}" $(vsrc 642x362) -c:v libvpx-vp9 -deadline realtime vp9_p0.flv
extract vp9_p0 vp9_p0.flv vconfig
extract vp9frame_p0 vp9_p0.flv vframe 64
$F7 "${Q[@]}" $(vsrc 322x244) -vf scale=321:243 -c:v libvpx-vp9 -deadline realtime -pix_fmt yuv420p10le vp9_p2.flv
extract vp9_p2 vp9_p2.flv vconfig
extract vp9frame_p2 vp9_p2.flv vframe 64
$F7 "${Q[@]}" $(vsrc 322x242) -c:v libvpx-vp9 -deadline realtime -pix_fmt yuv444p vp9_p1.flv
extract vp9_p1 vp9_p1.flv vconfig
extract vp9frame_p1 vp9_p1.flv vframe 64

# VP8 is not carried in FLV; its keyframe header comes from IVF.
$F5 "${Q[@]}" $(vsrc 322x244) -vf scale=321:243 -c:v libvpx -f ivf vp8.ivf
extract vp8frame vp8.ivf vivf 64

# AAC (legacy FLV, AudioSpecificConfig)
$F5 "${Q[@]}" $(asrc 44100) -ac 2 -c:a aac aac_lc_44100_2.flv
extract aac_lc_44100_2 aac_lc_44100_2.flv aconfig
$F5 "${Q[@]}" $(asrc 48000) -ac 6 -c:a aac aac_lc_48000_6.flv
extract aac_lc_48000_6 aac_lc_48000_6.flv aconfig
$F5 "${Q[@]}" $(asrc 22050) -ac 1 -c:a aac aac_lc_22050_1.flv
extract aac_lc_22050_1 aac_lc_22050_1.flv aconfig
$F5 "${Q[@]}" $(asrc 44100) -ac 8 -c:a aac aac_lc_44100_8.flv
extract aac_lc_44100_8 aac_lc_44100_8.flv aconfig
$F5 "${Q[@]}" $(asrc 32000) -ac 2 -c:a aac -profile:a aac_ltp -strict -2 aac_ltp_32000_2.flv
extract aac_ltp_32000_2 aac_ltp_32000_2.flv aconfig

# Opus, FLAC, AC-3, E-AC-3 (Enhanced RTMP v2 audio)
$F9 "${Q[@]}" $(asrc 48000) -ac 2 -c:a libopus opus_2.flv
extract opus_48000_2 opus_2.flv aconfig
$F9 "${Q[@]}" $(asrc 48000) -ac 6 -c:a libopus opus_6.flv
extract opus_48000_6 opus_6.flv aconfig
$F9 "${Q[@]}" $(asrc 44100) -ac 2 -c:a flac flac_2.flv
extract flac_44100_2_s16 flac_2.flv aconfig
$F9 "${Q[@]}" $(asrc 96000) -ac 6 -c:a flac -sample_fmt s32 flac_6.flv
extract flac_96000_6_s24 flac_6.flv aconfig
$F9 "${Q[@]}" $(asrc 48000) -ac 6 -c:a ac3 ac3_6.flv
extract ac3_48000_6 ac3_6.flv aframe 64
$F9 "${Q[@]}" $(asrc 44100) -ac 2 -c:a ac3 ac3_2.flv
extract ac3_44100_2 ac3_2.flv aframe 64
$F9 "${Q[@]}" $(asrc 48000) -ac 6 -c:a eac3 eac3_6.flv
extract eac3_48000_6 eac3_6.flv aframe 64
$F9 "${Q[@]}" $(asrc 32000) -ac 2 -c:a eac3 eac3_2.flv
extract eac3_32000_2 eac3_2.flv aframe 64

# MPEG audio (legacy FLV MP3, and raw streams for other versions / layers)
$F5 "${Q[@]}" $(asrc 44100) -ac 2 -c:a libmp3lame mp3_44100_2.flv
extract mp3_44100_2 mp3_44100_2.flv aframe 64
$F5 "${Q[@]}" $(asrc 22050) -ac 1 -c:a libmp3lame mp3_22050_1.flv
extract mp3_22050_1 mp3_22050_1.flv aframe 64
RAW=(-write_xing 0 -id3v2_version 0 -write_id3v1 0)
$F5 "${Q[@]}" $(asrc 8000) -ac 1 -c:a libmp3lame "${RAW[@]}" mp3_8000_1.mp3
extract mp3_8000_1 mp3_8000_1.mp3 araw 64
$F5 "${Q[@]}" $(asrc 48000) -ac 2 -c:a mp2 -b:a 192k mp2_48000_2.mp2
extract mp2_48000_2 mp2_48000_2.mp2 araw 64
