// Package chunk implements the RTMP chunk stream: the layer that splits
// messages into chunks, multiplexes them over one connection and joins them
// again (Adobe RTMP specification 1.0, December 2012, §5.3 "Chunking", with
// the Set Chunk Size and Abort semantics of §5.4.1 and §5.4.2 and the
// message header of §6.1).
//
// A Reader turns a byte stream into Messages: basic headers of 1 to 3
// bytes, message headers of types 0 to 3, extended timestamps, interleaved
// chunk streams. It enforces limits on message size, the number of chunk
// streams and the memory held by partial messages, each checked before
// anything is allocated. Payloads alias the Reader's buffers until the next
// read, so steady-state reading allocates nothing; Detach hands a payload
// over to the caller.
//
// A Writer turns Messages into chunks with the most compact headers, and
// buffers them until Flush.
//
// Encode once: Encode and Prepared chunk a message a single time with a
// self-contained type 0 header, and Writer.WritePrepared queues those shared
// bytes by reference on any number of Writers (one per subscriber), which
// write them with writev. The Writer then knows what the peer knows, so
// WriteMessage can keep using compressed headers on the same chunk stream.
//
// Protocol control messages are decoded above this package. The connection
// calls Reader.SetChunkSize and Reader.Abort when it reads Set Chunk Size
// and Abort Message, and Reader.BytesRead for Acknowledgement (§5.4.3).
//
// CheckIDs checks the rule of §5.4 that protocol control messages travel on
// chunk stream 2 and message stream 0 (KindOf classifies message stream
// IDs), and an Unwrapper extends the 32-bit timestamps to 64 bits with the
// serial number arithmetic §4 asks for.
//
// Readers, Writers and their state belong to one goroutine each; a Prepared
// is immutable and may be shared freely.
package chunk
