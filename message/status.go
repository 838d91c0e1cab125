package message

import "github.com/ertmp/rtmp/amf0"

// Levels of a status info object (§7.2.2: "one of "warning", "status", or
// "error"").
const (
	LevelStatus  = "status"
	LevelWarning = "warning"
	LevelError   = "error"
)

// Status codes of info objects. The NetConnection codes are listed in
// Enhanced RTMP v2, "Detailed Overview of the onStatus Command for
// NetConnection"; the NetStream codes are those of §7.2.2 and of the
// ActionScript NetStatusEvent reference that servers follow.
const (
	CodeCallFailed              = "NetConnection.Call.Failed"
	CodeConnectAppShutdown      = "NetConnection.Connect.AppShutdown"
	CodeConnectClosed           = "NetConnection.Connect.Closed"
	CodeConnectFailed           = "NetConnection.Connect.Failed"
	CodeConnectRejected         = "NetConnection.Connect.Rejected"
	CodeConnectSuccess          = "NetConnection.Connect.Success"
	CodeConnectReconnectRequest = "NetConnection.Connect.ReconnectRequest" // Enhanced RTMP v2
	CodeProxyNotResponding      = "NetConnection.Proxy.NotResponding"

	CodePublishStart        = "NetStream.Publish.Start"
	CodePublishBadName      = "NetStream.Publish.BadName"
	CodePublishDenied       = "NetStream.Publish.Denied" // servers' answer to a publisher that is not allowed (a wrong key)
	CodePublishIdle         = "NetStream.Publish.Idle"
	CodeUnpublishSuccess    = "NetStream.Unpublish.Success"
	CodePlayStart           = "NetStream.Play.Start"
	CodePlayReset           = "NetStream.Play.Reset"
	CodePlayStop            = "NetStream.Play.Stop"
	CodePlayFailed          = "NetStream.Play.Failed"
	CodePlayStreamNotFound  = "NetStream.Play.StreamNotFound"
	CodePlayUnpublishNotify = "NetStream.Play.UnpublishNotify"
	CodePlayPublishNotify   = "NetStream.Play.PublishNotify"
	CodePlayComplete        = "NetStream.Play.Complete"
	CodePlayInsufficientBW  = "NetStream.Play.InsufficientBW"
	CodePauseNotify         = "NetStream.Pause.Notify"
	CodeUnpauseNotify       = "NetStream.Unpause.Notify"
	CodeSeekNotify          = "NetStream.Seek.Notify"
	CodeSeekFailed          = "NetStream.Seek.Failed"
	CodeDataStart           = "NetStream.Data.Start"
	CodeRecordStart         = "NetStream.Record.Start"
	CodeRecordStop          = "NetStream.Record.Stop"
	CodeRecordNoAccess      = "NetStream.Record.NoAccess"
	CodeStreamFailed        = "NetStream.Failed"
)

// Status is the typed view of an info object: the argument of onStatus
// (§7.2.2: "An AMF object having at least the following three properties:
// "level" ..., "code" ..., and "description" ...") and of onFCPublish, and
// the information object of a connect _result or _error (§7.2.1.1).
//
// Props holds the object as decoded; the other properties ("details",
// "clientid", "objectEncoding", "tcUrl", ...) are read from it and added to
// it. Object merges the fields into it as Connect.Object does: a field
// absent from Props is written before Props' properties when it is not
// empty, so a Status built from scratch writes level, code, description,
// then Props.
type Status struct {
	Level       string
	Code        string
	Description string
	Props       amf0.Object
}

// NewStatus returns a Status with no other properties.
func NewStatus(level, code, description string) Status {
	return Status{Level: level, Code: code, Description: description}
}

// ParseStatus reads an info object: an object, ECMA array or typed object.
func ParseStatus(v amf0.Value) (Status, bool) {
	props, ok := asObject(v)
	if !ok {
		return Status{}, false
	}
	return Status{
		Level:       getString(props, "level"),
		Code:        getString(props, "code"),
		Description: getString(props, "description"),
		Props:       props,
	}, true
}

// Object returns the info object. Props is not modified.
func (s Status) Object() amf0.Object {
	if s.Props == nil {
		o := make(amf0.Object, 0, 3)
		if s.Level != "" {
			o = append(o, amf0.Property{Key: "level", Value: s.Level})
		}
		if s.Code != "" {
			o = append(o, amf0.Property{Key: "code", Value: s.Code})
		}
		if s.Description != "" {
			o = append(o, amf0.Property{Key: "description", Value: s.Description})
		}
		return o
	}
	return merge(s.Props, []field{
		strField(s.Level, "level"),
		strField(s.Code, "code"),
		strField(s.Description, "description"),
	})
}

// Status returns the info object of an onStatus, onFCPublish, _result or
// _error command: its first argument, when that is an object.
func (c Command) Status() (Status, bool) { return ParseStatus(c.Arg(0)) }

// NewOnStatus returns the onStatus command a server sends on a stream
// (§7.2.2) or on the connection: "onStatus", 0, null, {level, code,
// description}. An empty description is left out.
func NewOnStatus(level, code, description string) Command {
	return NewStatusCommand(NameOnStatus, NewStatus(level, code, description))
}

// NewStatusCommand returns name, 0, null, s.Object(): the form of onStatus
// with more properties, and of onFCPublish and onFCUnpublish.
func NewStatusCommand(name string, s Status) Command {
	return Command{Name: name, Object: nil, Args: []amf0.Value{s.Object()}}
}

// NewOnFCPublish returns the onFCPublish a server answers FCPublish with:
// "onFCPublish", 0, null, {code, description}, where description is
// usually the stream name.
func NewOnFCPublish(code, description string) Command {
	return NewStatusCommand(NameOnFCPublish, Status{Code: code, Description: description})
}

// ReconnectRequest is the Enhanced RTMP v2 request that a client reconnect
// ("Reconnect Request"): a NetConnection onStatus with level "status", code
// NetConnection.Connect.ReconnectRequest and an optional tcUrl and
// description. A client that signals CapsExReconnect in connect understands
// it.
type ReconnectRequest struct {
	// TcURL is where to reconnect: "Absolute or relative URI reference of
	// the server to which to reconnect. If not specified, use the tcUrl for
	// the current connection."
	TcURL       string
	Description string
}

// ParseReconnectRequest reads a reconnect request from an onStatus command,
// and reports false for any other command. The level must be "status"
// ("To reconnect the level MUST be set to status"): the code at another
// level is not a request to reconnect.
func ParseReconnectRequest(c Command) (ReconnectRequest, bool) {
	if c.Name != NameOnStatus {
		return ReconnectRequest{}, false
	}
	s, ok := c.Status()
	if !ok || s.Code != CodeConnectReconnectRequest || s.Level != LevelStatus {
		return ReconnectRequest{}, false
	}
	return ReconnectRequest{TcURL: getString(s.Props, "tcUrl"), Description: s.Description}, true
}

// Command returns "onStatus", 0, null, {level: "status", code:
// "NetConnection.Connect.ReconnectRequest", description, tcUrl}, leaving
// out the description and tcUrl when empty. It is sent on message stream 0.
func (r ReconnectRequest) Command() Command {
	s := NewStatus(LevelStatus, CodeConnectReconnectRequest, r.Description)
	if r.TcURL != "" {
		s.Props = amf0.Object{{Key: "tcUrl", Value: r.TcURL}}
	}
	return NewStatusCommand(NameOnStatus, s)
}

// NewReconnectRequest returns ReconnectRequest{tcURL, description}.Command().
func NewReconnectRequest(tcURL, description string) Command {
	return ReconnectRequest{TcURL: tcURL, Description: description}.Command()
}
