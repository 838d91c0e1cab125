package rtmp

import (
	"context"
	"fmt"

	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/chunk"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/message"
)

// Publisher pushes a stream to a server: what DialPublish returns. Write
// methods may be called from one goroutine; ReadEvent from another.
type Publisher struct {
	client
	name string
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
	p := &Publisher{client: *newClient(u, cfg), name: u.Stream}
	if err := p.dial(ctx, DefaultPublishFlashVer); err != nil {
		return nil, err
	}
	go p.readLoop()
	if err := p.start(ctx); err != nil {
		p.conn.Close()
		<-p.done
		return nil, err
	}
	return p, nil
}

func (p *Publisher) start(ctx context.Context) error {
	if _, err := p.call(0, "releaseStream", false, p.name); err != nil {
		return err
	}
	if _, err := p.call(0, "FCPublish", false, p.name); err != nil {
		return err
	}
	if err := p.createStream(ctx); err != nil {
		return err
	}
	typ := p.cfg.PublishType
	if typ == "" {
		typ = "live"
	}
	if _, err := p.call(p.streamID, "publish", false, p.name, typ); err != nil {
		return err
	}
	return p.awaitStart(ctx, "publish", message.CodePublishStart)
}

// awaitStart waits for the onStatus that starts publish or play (code),
// failing on an error status or an _error answer. Other events that arrive
// meanwhile (onFCPublish, StreamBegin, ...) stay queued for ReadEvent.
func (c *client) awaitStart(ctx context.Context, command, code string) error {
	for {
		ev, err := c.nextEvent(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("rtmp: %s: %w", command, ctx.Err())
			}
			return c.readErr(command)
		}
		switch {
		case ev.Kind == EventStatus && ev.Code == code:
			c.releaseEarly()
			return nil
		case ev.Kind == EventStatus && ev.Level == "error":
			return &StatusError{Command: command, Code: ev.Code, Description: ev.Description}
		case ev.Kind == EventResult && ev.Command.IsError():
			return statusError(command, ev.Command)
		}
		c.mu.Lock()
		c.early = append(c.early, ev)
		c.mu.Unlock()
	}
}

// readLoop reads what the server sends while publishing: statuses, answers,
// calls and user control events (control messages are applied by Conn).
func (p *Publisher) readLoop() {
	for {
		m, err := p.conn.ReadMessage()
		if err != nil {
			p.stop(err)
			return
		}
		switch t := message.Type(m.TypeID); t {
		case message.TypeCommandAMF0, message.TypeCommandAMF3:
			cmd, err := message.UnmarshalCommand(t, m.Payload)
			if err != nil {
				p.stop(err)
				return
			}
			p.handleCommand(cmd)
		case message.TypeUserControl:
			p.userControl(m.Payload)
		}
	}
}

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
		if d.IsMetaData() {
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
	return p.WriteData(timestamp, message.Data{Values: []amf0.Value{flv.ClearDataFrame, name}})
}

// WriteData sends a data message.
func (p *Publisher) WriteData(timestamp uint32, d message.Data) error {
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

// Close unpublishes politely: FCUnpublish, deleteStream, then a
// half-close and a brief drain so the server reads everything.
func (p *Publisher) Close() error {
	p.call(0, "FCUnpublish", false, p.name)
	p.call(0, "deleteStream", false, float64(p.streamID))
	return p.closeConn()
}
