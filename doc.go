// Package rtmp is ertmp's RTMP library: connections, servers and clients,
// publish and play sessions, Enhanced RTMP v1 and v2 capabilities.
//
// A connection carries NetStreams (RTMP 1.0 §7.2.2): a server hands each
// publish or play of a connection to its Handler as a Request of its own,
// and a client opens more streams on its connection with Publish and Play.
// One goroutine reads a connection at a time and routes its messages by
// message stream id (see netstream.go for the design). Sessions on both
// sides send and receive shared objects (message.SharedObject), calls with
// command objects (Call, Send, Reply, ReplyError) and status (SendStatus).
//
// The codecs underneath are sub-packages that do no I/O: amf0, amf3, flv,
// handshake, chunk and message, and codecinfo for the codec parameters a
// stream announces (see Packet.VideoInfo and Packet.AudioInfo).
package rtmp
