// Package fmp4 writes fragmented MP4 (ISO/IEC 14496-12, the ISO base media
// file format, in the fragmented form CMAF and HLS use) from what FLV and
// Enhanced RTMP carry: initialization segments from decoder configurations,
// and movie fragments from coded frames. Like flv it is a codec package: no
// I/O, no clock, no goroutines.
//
// A Track is made by NewTrack from a sequence header's configuration record
// (and, for the codecs whose configuration is in the bitstream, the first
// frame): H.264 (avc1 + avcC), HEVC (hvc1 + hvcC), AV1 (av01 + av1C), VP9
// (vp09 + vpcC), AAC (mp4a + esds), MP3 (mp4a + esds, objectTypeIndication
// 0x6B, or 0x69 for the MPEG-2 rates below 32 kHz, as FFmpeg writes it),
// Opus (Opus + dOps), FLAC (fLaC + dfLa), AC-3 (ac-3 + dac3) and E-AC-3
// (ec-3 + dec3). AppendInit writes ftyp and moov for one or more tracks.
//
// VideoSample and AudioSample turn a track of an flv.VideoTag or
// flv.AudioTag into a Sample: its data in the form ISOBMFF stores it, its
// sync flag and composition time. Track.Add queues samples with their FLV
// decode times in milliseconds; AppendFragment writes the queued samples of
// one track (the CMAF layout) or of several as moof + mdat: a tfdt of
// version 1 (64-bit decode time), and a trun with durations, sizes, sync
// flags and signed composition offsets (version 1). Times are kept in each
// track's timescale, 90 kHz for video and the sample rate for audio.
//
// Everything is appended to a caller's buffer. StartBox, StartFullBox and
// EndBox are the box writer the package uses, for callers that add boxes of
// their own (styp, prft, ...). ParseBoxes reads a box tree back, bounded in
// depth, with every size checked against the input before use; its results
// alias the input.
//
// Specifications: ISO/IEC 14496-12 (boxes), ISO/IEC 14496-14 (esds),
// ISO/IEC 14496-15 (avcC, hvcC), AV1 Codec ISO Media File Format Binding
// (av1C), VP Codec ISO Media File Format Binding (vpcC), Encapsulation of
// Opus in ISO Base Media File Format (dOps), Encapsulation of FLAC in ISO
// Base Media File Format (dfLa), ETSI TS 102 366 Annex F (dac3, dec3), and
// Enhanced RTMP v2 for what FLV carries.
package fmp4
