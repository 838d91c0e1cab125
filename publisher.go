package rtmp

import (
	"context"
	"fmt"

	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/chunk"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/message"
)

// Publisher pushes a stream to a server: what DialPublish returns, or
// Publish on a connection that already has a stream. Write methods may be
// called from one goroutine; ReadEvent from another.
type Publisher struct {
	client
	// scratch holds a tag body being encoded; the chunk writer copies it,
	// so it is reused (write methods run on one goroutine).
	scratch []byte
}

// DialPublish connects to rawurl and publishes its stream name: connect,
// releaseStream, FCPublish, createStream, publish. It returns once the
// server answers NetStream.Publish.Start, or with an error naming the
// server's code and description (a *StatusError), or why the connection
// ended.
func DialPublish(ctx context.Context, rawurl string, cfg *ClientConfig) (*Publisher, error) {
	u, err := ParseURL(rawurl)
	if err != nil {
		return nil, err
	}
	if u.Stream == "" {
		return nil, fmt.Errorf("%w: %q names no stream to publish", ErrURL, rawurl)
	}
	c := newClientConn(u, cfg)
	if err := c.dial(ctx, DefaultPublishFlashVer); err != nil {
		return nil, err
	}
	go c.readLoop()
	p, err := c.Publish(ctx, u.Stream)
	if err != nil {
		c.conn.Close()
		<-c.done
		return nil, err
	}
	return p, nil
}

// Publish publishes name on a new NetStream of the same connection
// (releaseStream, FCPublish, createStream, publish) and returns its
// Publisher; the streams already open go on. This is how a multi-bitrate
// encoder sends its renditions over one connection. Each stream is closed
// on its own; the connection closes with the last. A refusal
// (*StatusError) leaves the connection and its other streams open.
func (c *clientConn) Publish(ctx context.Context, name string) (*Publisher, error) {
	p := &Publisher{client: c.newStream(name)}
	if err := c.add(p); err != nil {
		return nil, err
	}
	if err := p.start(ctx); err != nil {
		c.remove(p)
		return nil, err
	}
	return p, nil
}

func (p *Publisher) start(ctx context.Context) error {
	if _, err := p.call(0, named(message.NameReleaseStream, p.name), false); err != nil {
		return err
	}
	if _, err := p.call(0, named(message.NameFCPublish, p.name), false); err != nil {
		return err
	}
	if err := p.createStream(ctx, p); err != nil {
		return err
	}
	typ := p.cfg.PublishType
	if typ == "" {
		typ = message.PublishLive
	}
	if err := p.write(p.streamID, named(message.NamePublish, p.name, typ)); err != nil {
		return err
	}
	return p.awaitStart(ctx, "publish", message.CodePublishStart)
}

func (p *Publisher) base() *client         { return &p.client }
func (p *Publisher) message(chunk.Message) {}
func (p *Publisher) event(ClientEvent)     {}
func (p *Publisher) ended()                {}

// WritePacket sends one audio, video or data packet on the published stream
// and flushes it.
func (p *Publisher) WritePacket(pk Packet) error {
	if err := p.writePacket(pk); err != nil {
		return err
	}
	return p.conn.Flush()
}

// WritePackets sends several packets with one flush.
func (p *Publisher) WritePackets(pks ...Packet) error {
	for _, pk := range pks {
		if err := p.writePacket(pk); err != nil {
			return err
		}
	}
	return p.conn.Flush()
}

func (p *Publisher) writePacket(pk Packet) error {
	if p.closed.Load() {
		return ErrSessionClosed
	}
	return p.conn.WriteMessage(chunk.Message{CSID: csidFor(pk.Type), Header: chunk.Header{Timestamp: pk.Timestamp, TypeID: uint8(pk.Type), StreamID: p.streamID}, Payload: pk.Payload})
}

// WriteTag sends an FLV tag (audio, video or script data) at its timestamp.
// A script tag's onMetaData goes out as @setDataFrame, the way encoders set
// metadata on a server.
func (p *Publisher) WriteTag(t flv.Tag) error {
	switch t.Type {
	case flv.TagAudio, flv.TagVideo:
		return p.WritePacket(Packet{Type: message.Type(t.Type), Timestamp: t.Timestamp, Payload: t.Data})
	case flv.TagScript, flv.TagScriptAMF3:
		d, err := message.UnmarshalData(message.Type(t.Type), t.Data)
		if err != nil {
			return err
		}
		if name, _ := d.Name(); name == flv.OnMetaData {
			// A bare onMetaData, as FLV files hold it, is set with
			// @setDataFrame; one that already is goes as it is.
			d.Values = append([]amf0.Value{flv.SetDataFrame}, d.Values...)
		}
		return p.WriteData(t.Timestamp, d)
	}
	return fmt.Errorf("rtmp: cannot publish FLV tag type %d", t.Type)
}

// WriteVideo sends a video tag body; WriteAudio an audio one.
func (p *Publisher) WriteVideo(timestamp uint32, tag *flv.VideoTag) error {
	b, err := tag.Append(p.scratch[:0])
	if err != nil {
		return err
	}
	p.scratch = b
	return p.WritePacket(Packet{Type: message.TypeVideo, Timestamp: timestamp, Payload: b})
}

// WriteAudio sends an audio tag body.
func (p *Publisher) WriteAudio(timestamp uint32, tag *flv.AudioTag) error {
	b, err := tag.Append(p.scratch[:0])
	if err != nil {
		return err
	}
	p.scratch = b
	return p.WritePacket(Packet{Type: message.TypeAudio, Timestamp: timestamp, Payload: b})
}

// WriteAVCSequenceHeader sends a legacy AVC sequence header (an
// AVCDecoderConfigurationRecord); WriteAVC sends NAL units in AVCC form
// with their composition time offset.
func (p *Publisher) WriteAVCSequenceHeader(timestamp uint32, record []byte) error {
	return p.WriteVideo(timestamp, &flv.VideoTag{FrameType: flv.FrameKey, CodecID: flv.CodecAVC, AVCPacketType: flv.AVCSequenceHeader, Data: record})
}

// WriteAVC sends AVC NAL units (AVCC: each prefixed by its 4-byte length).
func (p *Publisher) WriteAVC(timestamp uint32, key bool, compositionTime int32, nalus []byte) error {
	ft := flv.FrameInter
	if key {
		ft = flv.FrameKey
	}
	return p.WriteVideo(timestamp, &flv.VideoTag{FrameType: ft, CodecID: flv.CodecAVC, AVCPacketType: flv.AVCNALU, CompositionTime: compositionTime, Data: nalus})
}

// WriteAACSequenceHeader sends a legacy AAC sequence header (an
// AudioSpecificConfig); WriteAAC sends a raw AAC frame.
func (p *Publisher) WriteAACSequenceHeader(timestamp uint32, config []byte) error {
	return p.WriteAudio(timestamp, &flv.AudioTag{SoundFormat: flv.SoundAAC, SoundRate: flv.SoundRate44k, SoundSize: 1, SoundType: 1, AACPacketType: flv.AACSequenceHeader, Data: config})
}

// WriteAAC sends a raw AAC frame.
func (p *Publisher) WriteAAC(timestamp uint32, frame []byte) error {
	return p.WriteAudio(timestamp, &flv.AudioTag{SoundFormat: flv.SoundAAC, SoundRate: flv.SoundRate44k, SoundSize: 1, SoundType: 1, AACPacketType: flv.AACRaw, Data: frame})
}

// WriteMetadata sets the stream's metadata: @setDataFrame onMetaData with
// the properties, in AMF0 (data message 18) or, when amf3 is set, as an
// AMF3 data message (15) whose object is AMF3-encoded.
func (p *Publisher) WriteMetadata(timestamp uint32, props amf0.Object, amf3 bool) error {
	var v amf0.Value = amf0.NewECMAArray(props...)
	if amf3 {
		v = amf0.AMF3{Value: amf3Object(props)}
	}
	return p.WriteData(timestamp, message.Data{AMF3: amf3, Values: []amf0.Value{flv.SetDataFrame, flv.OnMetaData, v}})
}

// ClearDataFrame clears a data frame set with @setDataFrame (e.g. onMetaData).
func (p *Publisher) ClearDataFrame(timestamp uint32, name string) error {
	return p.WriteData(timestamp, message.NewClearDataFrame(name))
}

// WriteData sends a data message.
func (p *Publisher) WriteData(timestamp uint32, d message.Data) error {
	if p.closed.Load() {
		return ErrSessionClosed
	}
	if err := p.conn.Write(CSIDData, p.streamID, timestamp, d); err != nil {
		return err
	}
	return p.conn.Flush()
}

// WriteAggregate sends several messages as one aggregate message (§7.1.6):
// its timestamp is that of the first sub-message.
func (p *Publisher) WriteAggregate(pks []Packet) error {
	if len(pks) == 0 {
		return nil
	}
	subs := make([]message.SubMessage, len(pks))
	for i, pk := range pks {
		subs[i] = message.SubMessage{Type: pk.Type, Timestamp: pk.Timestamp, StreamID: p.streamID, Payload: pk.Payload}
	}
	b, err := message.AppendAggregate(nil, subs)
	if err != nil {
		return err
	}
	return p.WritePacket(Packet{Type: message.TypeAggregate, Timestamp: pks[0].Timestamp, Payload: b})
}

// Flush sends anything buffered.
func (p *Publisher) Flush() error { return p.conn.Flush() }

// Close unpublishes politely: FCUnpublish, deleteStream and, when it was
// the last stream of its connection, a half-close and a brief drain so the
// server reads everything. Safe to call more than once.
func (p *Publisher) Close() error {
	return p.closeStream(p, func() {
		p.call(0, named(message.NameFCUnpublish, p.name), false)
		p.call(0, named(message.NameDeleteStream, float64(p.streamID)), false)
	})
}
