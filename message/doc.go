// Package message turns RTMP message payloads into typed values and back
// (Adobe RTMP specification 1.0, December 2012; section numbers in this
// package refer to it, and "Enhanced RTMP v2" to the Veovera Enhanced RTMP
// v2 specification).
//
// The chunk layer (package chunk) delivers messages as a type ID, a
// timestamp, a message stream ID and a payload. Decode turns the type ID
// and payload into a Message, and Message.AppendPayload writes it back:
//
//	type  message                 Go type           section
//	1     Set Chunk Size          SetChunkSize      §5.4.1
//	2     Abort Message           Abort             §5.4.2
//	3     Acknowledgement         Acknowledgement   §5.4.3
//	4     User Control            UserControl       §6.2, §7.1.7
//	5     Window Ack Size         WindowAckSize     §5.4.4
//	6     Set Peer Bandwidth      SetPeerBandwidth  §5.4.5
//	8     Audio                   Audio             §7.1.4
//	9     Video                   Video             §7.1.5
//	15    Data (AMF3)             Data              §7.1.2
//	16    Shared Object (AMF3)    SharedObject      §7.1.3
//	17    Command (AMF3)          Command           §7.1.1
//	18    Data (AMF0)             Data              §7.1.2
//	19    Shared Object (AMF0)    SharedObject      §7.1.3
//	20    Command (AMF0)          Command           §7.1.1
//	22    Aggregate               Aggregate         §7.1.6
//	other                         Raw
//
// The package does no I/O and keeps no state: connection state (chunk
// size, windows, acknowledgements, streams) belongs to the connection.
// ApplyPeerBandwidth implements the limit rule of §5.4.5 for it.
//
// # Commands
//
// Command is the generic form of every command (§7.2): name, transaction
// ID, command object and arguments, which re-encodes to the bytes it came
// from. Typed views read and build the commands of §7.2 and the ones real
// clients send: Connect (with the Enhanced RTMP fourCcList, info maps and
// capsEx), CreateStream, Publish, Play, Play2, Pause, Seek, ReceiveAudio,
// ReceiveVideo, CloseStream, DeleteStream, ReleaseStream, FCPublish and
// FCUnpublish, each with a Parse function and a Command method. Servers
// answer with NewResult, NewErrorResult, NewCreateStreamResult,
// NewOnStatus, NewStatusCommand, NewOnFCPublish and, to ask a client to
// reconnect (Enhanced RTMP v2), NewReconnectRequest; Command.Status reads
// the info object of any of them. Any other name is a call (§7.2.1.2):
// Name and Args.
//
// # AMF 3
//
// Types 15, 16 and 17 carry AMF 0 values after a format selector byte that
// must be 0; each value may switch to AMF 3 with the avmplus marker 0x11,
// for that value only (Enhanced RTMP v2, "Important AMF3-encoded
// Historical Specification Clarification"). The AMF3 field of Data,
// SharedObject and Command selects the type; AMF 3 values are amf0.AMF3
// values. A selector other than 0 fails with a *FormatSelectorError.
//
// # Aliasing
//
// Decoded byte slices (Audio, Video, Raw and Aggregate payloads,
// UserControl.Data, SharedObjectEvent.Data, aggregate sub-message payloads)
// alias the payload: copy them to keep them past the payload's buffer.
// Strings and AMF values never alias it. Audio and Video are opaque FLV
// tag bodies; package flv parses them.
//
// # Errors and limits
//
// Errors are *Error values naming the message type and the field, wrapping
// a sentinel (ErrTruncated, which wraps io.ErrUnexpectedEOF, ErrInvalid,
// ErrReservedBit, ErrMalformed, ...) or a typed error (*FormatSelectorError,
// *BackPointerError). Every length read from the wire is checked against
// the bytes that remain before it is used, and AMF values are bounded by
// the amf0 package's limits, so the memory a payload makes the package
// allocate is proportional to its size, and no payload makes it panic.
//
// Values are safe for concurrent reads; the package has no shared mutable
// state.
package message
