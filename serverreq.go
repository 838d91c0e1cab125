package rtmp

import (
	"errors"
	"fmt"
	"time"

	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/message"
)

// ErrProtocol marks a peer that broke the command sequence.
var ErrProtocol = errors.New("rtmp: protocol error")

// serverCapabilities is what the connect _result always carries; Enhanced
// RTMP fields come from Server.Capabilities.
const (
	defaultFMSVersion = "FMS/3,5,7,7009"
	fmsCapabilities   = 31
)

// readRequest runs the connect exchange and the commands before publish or
// play, answering them the way common servers do, until the peer publishes
// or plays. It is bounded by RequestTimeout.
func (c *serverConn) readRequest() (*Request, error) {
	s := c.srv
	conn := c.conn
	conn.SetReadDeadline(time.Now().Add(durationOr(s.RequestTimeout, DefaultRequestTimeout)))
	defer conn.SetReadDeadline(time.Time{})
	req := &Request{c: c, RemoteAddr: c.nc.RemoteAddr()}
	connected := false
	var nextStream uint32 = 1
	for {
		m, err := conn.ReadMessage()
		if err != nil {
			return nil, err
		}
		switch t := message.Type(m.TypeID); t {
		case message.TypeUserControl:
			if ev, err := message.UnmarshalUserControl(m.Payload); err == nil && ev.Event == message.EventSetBufferLength {
				req.BufferLength = ev.BufferLength
			}
			continue
		case message.TypeCommandAMF0, message.TypeCommandAMF3:
			cmd, err := message.UnmarshalCommand(t, m.Payload)
			if err != nil {
				return nil, err
			}
			amf3 := t == message.TypeCommandAMF3
			if !connected && cmd.Name != "connect" {
				return nil, fmt.Errorf("%w: %q before connect", ErrProtocol, cmd.Name)
			}
			switch cmd.Name {
			case "connect":
				if connected {
					return nil, fmt.Errorf("%w: a second connect", ErrProtocol)
				}
				if err := c.connect(req, cmd, amf3); err != nil {
					return nil, err
				}
				connected = true
			case "createStream":
				id := nextStream
				nextStream++
				c.reply(amf3, cmd.TransactionID, nil, float64(id))
			case "releaseStream", "_checkbw", "FCUnpublish", "deleteStream", "closeStream":
				if cmd.TransactionID != 0 {
					c.reply(amf3, cmd.TransactionID, nil, amf0.Undefined{})
				}
			case "FCPublish":
				// onFCPublish, as FMS and common servers send, then _result.
				name, _ := argString(cmd.Args, 0)
				c.sendCommand(0, message.Command{AMF3: amf3, Name: "onFCPublish", Args: []amf0.Value{statusInfo("status", message.CodePublishStart, name, nil)}})
				if cmd.TransactionID != 0 {
					c.reply(amf3, cmd.TransactionID, nil, amf0.Undefined{})
				}
			case "getStreamLength":
				c.reply(amf3, cmd.TransactionID, nil, 0.0)
			case "publish":
				name, _ := argString(cmd.Args, 0)
				req.Kind, req.StreamID, req.amf3 = KindPublish, m.StreamID, amf3
				req.StreamName, req.RawQuery, req.Query = splitName(name)
				req.PublishType = "live"
				if pt, ok := argString(cmd.Args, 1); ok && pt != "" {
					req.PublishType = pt
				}
				return req, conn.Flush()
			case "play":
				name, _ := argString(cmd.Args, 0)
				req.Kind, req.StreamID, req.amf3 = KindPlay, m.StreamID, amf3
				req.StreamName, req.RawQuery, req.Query = splitName(name)
				req.Start, req.Duration, req.Reset = -2, -1, true
				if n, ok := argNumber(cmd.Args, 1); ok {
					req.Start = n
				}
				if n, ok := argNumber(cmd.Args, 2); ok {
					req.Duration = n
				}
				if len(cmd.Args) > 3 {
					switch v := amf0.Resolve(cmd.Args[3]).(type) {
					case bool:
						req.Reset = v
					case float64: // old Flash sent a number
						req.Reset = v != 0
					}
				}
				return req, conn.Flush()
			default:
				// A call nobody handles: answer _error so the caller's
				// responder is not left waiting.
				if cmd.TransactionID != 0 {
					c.replyError(amf3, cmd.TransactionID, message.CodeCallFailed, "unknown method "+cmd.Name)
				}
			}
			if err := conn.Flush(); err != nil {
				return nil, err
			}
		}
	}
}

// connect answers the connect command: Window Acknowledgement Size, Set
// Peer Bandwidth, Stream Begin 0, the _result, then Set Chunk Size.
func (c *serverConn) connect(req *Request, cmd message.Command, amf3 bool) error {
	s := c.srv
	obj, _ := amf0.Resolve(cmd.Object).(amf0.Object)
	if e, ok := amf0.Resolve(cmd.Object).(amf0.ECMAArray); ok {
		obj = e.Props
	}
	req.ConnectObject = obj
	req.ConnectArgs = cmd.Args
	req.App, _ = obj.GetString("app")
	req.TcURL, _ = obj.GetString("tcUrl")
	req.Capabilities = ParseCapabilities(obj)

	conn := c.conn
	if err := conn.SetWindowAckSize(u32Or(s.WindowAckSize, DefaultWindowAckSize)); err != nil {
		return err
	}
	conn.SetPeerBandwidth(u32Or(s.PeerBandwidth, DefaultWindowAckSize), message.LimitDynamic)
	conn.Write(CSIDControl, 0, 0, message.NewStreamBegin(0))
	fms := s.FMSVersion
	if fms == "" {
		fms = defaultFMSVersion
	}
	props := amf0.Object{{Key: "fmsVer", Value: fms}, {Key: "capabilities", Value: float64(fmsCapabilities)}, {Key: "mode", Value: 1.0}}
	if s.Capabilities != nil {
		props = s.Capabilities.AppendTo(props)
	}
	info := statusInfo("status", message.CodeConnectSuccess, "Connection succeeded.", amf0.Object{{Key: "objectEncoding", Value: float64(req.Capabilities.ObjectEncoding)}})
	c.reply(amf3, cmd.TransactionID, props, info)
	if err := conn.SetChunkSize(u32Or(s.ChunkSize, DefaultChunkSize)); err != nil {
		return err
	}
	return conn.Flush()
}

func (c *serverConn) reply(amf3 bool, tx float64, obj amf0.Value, args ...amf0.Value) error {
	return c.sendCommand(0, message.Command{AMF3: amf3, Name: "_result", TransactionID: tx, Object: obj, Args: args})
}

func (c *serverConn) replyError(amf3 bool, tx float64, code, description string) error {
	return c.sendCommand(0, message.Command{AMF3: amf3, Name: "_error", TransactionID: tx, Args: []amf0.Value{statusInfo("error", code, description, nil)}})
}

func argString(args []amf0.Value, i int) (string, bool) {
	if i >= len(args) {
		return "", false
	}
	switch v := amf0.Resolve(args[i]).(type) {
	case string:
		return v, true
	case amf0.LongString:
		return string(v), true
	}
	return "", false
}

func argNumber(args []amf0.Value, i int) (float64, bool) {
	if i >= len(args) {
		return 0, false
	}
	n, ok := amf0.Resolve(args[i]).(float64)
	return n, ok
}
