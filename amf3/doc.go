// Package amf3 encodes and decodes AMF 3, the Action Message Format of
// ActionScript 3.0 (Adobe, "AMF 3 Specification", January 2013; section
// numbers in this package refer to it). RTMP carries AMF 3 in command and
// data messages of type 17 and 15, and inside AMF 0 after the avmplus
// marker (see package amf0).
//
// The package does no I/O: Decode reads from a []byte, Append appends to one.
// DecodeU29 and AppendU29 do the same for the variable-length U29 integer
// (§1.3.1) that lengths, references and integers are made of, for code that
// reads or writes AMF 3 framing by hand (an externalizable body, a shared
// object event).
//
// # Values
//
// A Value is an any holding one of these Go types:
//
//	AMF 3 type (marker)          Go type
//	undefined (0x00)  §3.2       Undefined
//	null (0x01)       §3.3       nil
//	false, true       §3.4-3.5   bool
//	integer (0x04)    §3.6       int32, in [-2^28, 2^28-1]
//	double (0x05)     §3.7       float64
//	string (0x06)     §3.8       string
//	XMLDocument (0x07) §3.9      XMLDocument
//	date (0x08)       §3.10      Date
//	array (0x09)      §3.11      *Array (dense and associative portions)
//	object (0x0A)     §3.12      *Object (with *Traits)
//	XML (0x0B)        §3.13      XML
//	ByteArray (0x0C)  §3.14      ByteArray
//	vector (0x0D-0x10) §3.15     *VectorInt, *VectorUint, *VectorDouble, *VectorObject
//	dictionary (0x11) §3.16      *Dictionary
//
// The encoder also takes Go integers (an integer when the value fits in 29
// signed bits, else a double, as §3.6 requires), float32, time.Time, []byte,
// []Value and map[string]Value; see Encoder.Append.
//
// Decoded values never alias the input: strings, XML and byte arrays are
// copied.
//
// # Reference tables
//
// A message has three reference tables (§2.2): strings, objects (objects,
// arrays, dates, XML, XMLDocument, byte arrays, vectors and dictionaries)
// and traits. A Decoder and an Encoder each keep one table set until Reset;
// the package functions Decode and Append use a fresh set per call.
//
// References round-trip: the decoder returns the same pointer (*Object,
// *Array, vector, *Dictionary, *Traits) or the same ByteArray slice for
// every reference to a value, so graphs with shared values and cycles come
// out as Go graphs with shared pointers and cycles; the encoder writes a
// reference for a pointer it already wrote in the message, for a string
// equal to one it wrote, and for traits equal to ones it wrote, as an AVM
// encoder does. A value decoded from the output of a conforming encoder
// therefore re-encodes to the same bytes. Inputs that another encoder
// wrote differently re-encode to different but equivalent bytes, and the
// result is a fixed point (decoding and encoding it again gives it back):
//
//   - a non-empty string written inline again instead of by reference;
//   - two equal dates, XML or XMLDocument values written inline (Go values
//     have no identity: the encoder references equal ones);
//   - U29 numbers in a longer form than needed, a fixed-vector or weak-keys
//     byte other than 0 and 1, and unused bits set in a date's U29D-value or
//     an externalizable object's U29O-traits-ext.
//
// Traits written inline again although equal traits were in the table are
// recognised and written inline again.
//
// # Externalizable objects
//
// The body of an externalizable object (§3.12) has a form only its class
// knows. Register an ExternalHandler for the class on the Decoder and the
// Encoder; without one, decoding fails with an *ExternalizableError
// (ErrNoExternalHandler). ValueHandler serves the Flex classes whose body is
// one value, such as ClassArrayCollection.
//
// # Limits
//
// Every length and count read from the wire is checked against the bytes
// left (each element takes at least one byte) and against the item budget
// before anything is allocated for it, so memory stays proportional to the
// input. Decoder.MaxDepth (DefaultMaxDepth, 64) bounds nesting and
// Decoder.MaxItems (DefaultMaxItems, 1<<20) bounds the elements, members and
// entries of one message. References to table entries that do not exist
// yet, or that hold another kind of value than the marker announces, fail
// with ErrBadReference. The Encoder bounds nesting with MaxDepth too, which
// stops a []Value that contains itself.
//
// # Errors
//
// Errors wrap the sentinels ErrTruncated (which wraps io.ErrUnexpectedEOF),
// ErrDepth, ErrTooMany, ErrBadReference, ErrUnknownMarker and
// ErrNoExternalHandler (as an *ExternalizableError) on decode, and
// ErrUnsupportedType, ErrInvalid, ErrTooLarge, ErrDepth and
// ErrNoExternalHandler on encode. Package amf0 uses the same sentinels. No
// input makes the decoder panic.
package amf3
