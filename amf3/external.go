package amf3

import (
	"encoding/binary"
	"fmt"
	"math"
)

// An ExternalHandler reads and writes the body of an externalizable class
// (§3.12, U29O-traits-ext): "the client and server have an agreement as to
// how to read in this information". Register one per class name on the
// Decoder and the Encoder that must handle it.
//
// ReadExternal returns what becomes Object.External; WriteExternal is given
// that value back. Values read through the ExternalReader share the
// message's reference tables, as IDataInput.readObject does.
type ExternalHandler interface {
	ReadExternal(r *ExternalReader) (any, error)
	WriteExternal(w *ExternalWriter, external any) error
}

// Class names of the Flex collection and proxy classes whose external form
// is exactly one AMF 3 value; ValueHandler reads and writes them.
const (
	ClassArrayCollection = "flex.messaging.io.ArrayCollection"
	ClassArrayList       = "flex.messaging.io.ArrayList"
	ClassObjectProxy     = "flex.messaging.io.ObjectProxy"
)

// ValueHandler is an ExternalHandler for classes whose body is one AMF 3
// value, such as ClassArrayCollection (an Array), ClassArrayList and
// ClassObjectProxy (an Object). Object.External holds that Value.
//
//	var d amf3.Decoder
//	d.RegisterExternalizable(amf3.ClassArrayCollection, amf3.ValueHandler{})
type ValueHandler struct{}

// ReadExternal reads one value.
func (ValueHandler) ReadExternal(r *ExternalReader) (any, error) { return r.ReadValue() }

// WriteExternal writes external as one value.
func (ValueHandler) WriteExternal(w *ExternalWriter, external any) error {
	return w.WriteValue(external)
}

// An ExternalReader reads the body of an externalizable object from the
// Decoder's input. It is valid only during the ReadExternal call it is
// given to.
type ExternalReader struct {
	d *Decoder
}

// Len returns the number of bytes left in the input being decoded.
func (r *ExternalReader) Len() int { return len(r.d.buf) - r.d.pos }

// ReadValue reads one AMF 3 value (IDataInput.readObject), sharing the
// message's reference tables and limits.
func (r *ExternalReader) ReadValue() (Value, error) { return r.d.value() }

// ReadBytes reads n raw bytes, copied.
func (r *ExternalReader) ReadBytes(n int) ([]byte, error) {
	if n < 0 {
		return nil, fmt.Errorf("amf3: externalizable: read %d bytes: %w", n, ErrInvalid)
	}
	b, err := r.d.bytes(n, "externalizable body")
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), b...), nil
}

// ReadByte reads one byte.
func (r *ExternalReader) ReadByte() (byte, error) { return r.d.u8("externalizable body") }

// ReadUint16 reads a big-endian U16.
func (r *ExternalReader) ReadUint16() (uint16, error) {
	b, err := r.d.bytes(2, "externalizable body")
	if err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint16(b), nil
}

// ReadUint32 reads a big-endian U32.
func (r *ExternalReader) ReadUint32() (uint32, error) { return r.d.u32("externalizable body") }

// ReadFloat64 reads a DOUBLE.
func (r *ExternalReader) ReadFloat64() (float64, error) { return r.d.double("externalizable body") }

// ReadUTF reads a U16-length-prefixed UTF-8 string (IDataInput.readUTF).
func (r *ExternalReader) ReadUTF() (string, error) {
	n, err := r.ReadUint16()
	if err != nil {
		return "", err
	}
	b, err := r.d.bytes(int(n), "externalizable body")
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// An ExternalWriter writes the body of an externalizable object into the
// Encoder's output. It is valid only during the WriteExternal call it is
// given to.
type ExternalWriter struct {
	e *Encoder
	b []byte
}

// WriteValue writes one AMF 3 value (IDataOutput.writeObject), sharing the
// message's reference tables.
func (w *ExternalWriter) WriteValue(v Value) error {
	b, err := w.e.value(w.b, v)
	if err != nil {
		return err
	}
	w.b = b
	return nil
}

// Write writes raw bytes. It always returns len(p), nil.
func (w *ExternalWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// WriteByte writes one byte.
func (w *ExternalWriter) WriteByte(c byte) error {
	w.b = append(w.b, c)
	return nil
}

// WriteUint16 writes a big-endian U16.
func (w *ExternalWriter) WriteUint16(v uint16) { w.b = binary.BigEndian.AppendUint16(w.b, v) }

// WriteUint32 writes a big-endian U32.
func (w *ExternalWriter) WriteUint32(v uint32) { w.b = binary.BigEndian.AppendUint32(w.b, v) }

// WriteFloat64 writes a DOUBLE.
func (w *ExternalWriter) WriteFloat64(f float64) {
	w.b = binary.BigEndian.AppendUint64(w.b, math.Float64bits(f))
}

// WriteUTF writes s with a U16 length prefix (IDataOutput.writeUTF).
func (w *ExternalWriter) WriteUTF(s string) error {
	if len(s) > 0xFFFF {
		return fmt.Errorf("amf3: externalizable: UTF string of %d bytes: %w", len(s), ErrTooLarge)
	}
	w.b = binary.BigEndian.AppendUint16(w.b, uint16(len(s)))
	w.b = append(w.b, s...)
	return nil
}
