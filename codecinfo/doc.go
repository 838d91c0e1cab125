// Package codecinfo reads the codec parameters a stream announces: picture size,
// profile, level, bit depth and chroma format for video; sample rate, channels
// and profile for audio. It parses the codec configuration records that FLV and
// Enhanced RTMP carry in sequence headers (SequenceStart packets), and for codecs
// without one the header of a coded frame, so that a program can log "h264 High
// 1280x720" and `ertmp probe` can report what ffprobe would.
//
// Given a packet's codec as an Enhanced RTMP FourCC (flv.VideoTag.Codec,
// flv.Track.FourCC, rtmp.Packet.Codec: legacy AVC, AAC and MP3 map to avc1, mp4a
// and .mp3), ParseVideoConfig and ParseAudioConfig read a sequence header's
// configuration record, ParseVideoKeyframe and ParseAudioFrame the header of a
// frame for the codecs that need it; rtmp.Packet.VideoInfo and AudioInfo do it
// all for a packet. The parsers per codec, and the specifications they follow:
//
//   - ParseAVCConfig, ParseAVCSPS: AVCDecoderConfigurationRecord (ISO/IEC
//     14496-15 §5.3.3.1) and the H.264 sequence parameter set (ITU-T H.264
//     §7.3.2.1.1), frame cropping applied.
//   - ParseHEVCConfig, ParseHEVCSPS: HEVCDecoderConfigurationRecord (ISO/IEC
//     14496-15 §8.3.3.1) and the H.265 sequence parameter set (ITU-T H.265
//     §7.3.2.2.1), conformance window applied.
//   - ParseVVCConfig: VVCDecoderConfigurationRecord (ISO/IEC 14496-15:2022
//     §11.2.4.2), its PTL and maximum picture size only.
//   - ParseAV1Config, ParseAV1SequenceHeader: AV1CodecConfigurationRecord (AV1
//     Codec ISO Media File Format Binding §2.3) and the sequence header OBU (AV1
//     Bitstream & Decoding Process Specification §5.5).
//   - ParseVPConfig: VPCodecConfigurationRecord (VP Codec ISO Media File Format
//     Binding §2.2); ParseVP9Keyframe: VP9 uncompressed header (VP9 Bitstream
//     Specification §6.2); ParseVP8Keyframe: VP8 key frame header (RFC 6386 §9.1).
//   - ParseAACConfig: AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1).
//   - ParseOpusHead: Opus identification header (RFC 7845 §5.1).
//   - ParseFLACConfig: FLAC STREAMINFO (RFC 9639 §8.2).
//   - ParseAC3Frame, ParseEAC3Frame: AC-3 and E-AC-3 sync frame headers (ATSC
//     A/52 §5.3 and Annex E).
//   - ParseMP3Frame: MPEG-1/2/2.5 audio frame header (ISO/IEC 11172-3 §2.4.1.3,
//     ISO/IEC 13818-3).
//
// Every parser is a pure function of its input: no I/O, no state, safe for
// concurrent use. Results never alias the input. Nothing is allocated from a
// length read off the wire, and no input makes a parser panic. Truncated input
// returns an error wrapping io.ErrUnexpectedEOF; malformed input one wrapping
// ErrInvalid; input this package does not read, ErrUnsupported. Names in Video
// and Audio (codec, profile) are spelled as ffprobe prints them.
package codecinfo
