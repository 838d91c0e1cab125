// Package flv encodes and decodes FLV tags and files: the legacy audio and
// video tag headers of FLV 10.1 (Annex E), every Enhanced RTMP v1 and v2
// addition — FourCC video and audio (ExVideoTagHeader, ExAudioTagHeader),
// multitrack in its three modes, ModEx chains with TimestampOffsetNano,
// multichannel configuration, the HDR colorInfo Metadata packet, FourCC codec
// ids and track info maps in onMetaData — FLV files, and the encryption
// header and filter parameters of encrypted tags (Annex F, EncryptedTag).
//
// An RTMP audio or video message payload is an FLV tag body, so the same
// types serve both.
//
// Decoding aliases its input and, for tag headers, does not allocate:
// VideoTag.Unmarshal and AudioTag.Unmarshal fill a struct whose Data (and
// ModEx) point into the given bytes. Encoding appends to a caller's buffer.
// Anything the spec reserves or does not know — codec ids, FourCCs, packet
// types, multitrack types, ModEx entries — is kept, so a decoded tag encodes
// back to the same bytes.
//
// Truncated input gives an error matching io.ErrUnexpectedEOF; Reader
// returns io.EOF only at the clean end of a file, and bounds every tag by
// MaxTagSize before allocating. Reader checks the version, the
// PreviousTagSize and the StreamID of a file (strict by default, Lenient
// to read on) and ReadAll reads a whole one. Writer writes whole tags only
// (a file cut by a crash or a full disk reads to its last tag), counts what
// it writes and, on a seekable destination, Close patches the duration and
// file size into the metadata of WriteMetadata and the audio and video
// flags into the header.
//
// Specs: FLV 10.1 Annexes E and F; Enhanced RTMP v1 and v2 ("Enhanced Audio",
// "Enhanced Video", "Metadata Frame", "Multitrack Streaming", "Enhancing
// onMetaData").
package flv
