// Package rtmp is ertmp's RTMP library: connections, servers and clients,
// publish and play sessions, Enhanced RTMP v1 and v2 capabilities.
//
// The codecs underneath are sub-packages that do no I/O: amf0, amf3, flv,
// handshake, chunk and message, and codecinfo for the codec parameters a
// stream announces (see Packet.VideoInfo and Packet.AudioInfo).
package rtmp
