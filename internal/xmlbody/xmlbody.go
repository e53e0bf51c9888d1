package xmlbody

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"

	"github.com/corazawaf/coraza/v3/experimental/plugins"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
)

func init() {
	plugins.RegisterBodyProcessor("xml", func() plugintypes.BodyProcessor { return processor{} })
}

type processor struct{}

func (processor) ProcessRequest(r io.Reader, v plugintypes.TransactionVariables, _ plugintypes.BodyProcessorOptions) error {
	attrs, text, err := Read(r)
	if err != nil {
		return err
	}
	col := v.RequestXML()
	col.Set("//@*", attrs)
	col.Set("/*", text)
	return nil
}

// ProcessResponse does nothing, as Coraza's does: CRS reads response
// bodies as RESPONSE_BODY.
func (processor) ProcessResponse(io.Reader, plugintypes.TransactionVariables, plugintypes.BodyProcessorOptions) error {
	return nil
}

// Read returns the attribute values and the non-blank, trimmed text nodes
// of an XML document, in document order. Like Coraza's, the decoder is
// lenient (mismatched end tags are repaired, HTML entities are known) and
// a document cut short is read as far as it goes; unlike Coraza's, an
// element named like an HTML void element may have content.
func Read(r io.Reader) (attrs, text []string, err error) {
	dec := xml.NewDecoder(r)
	dec.Strict = false
	dec.Entity = xml.HTMLEntity
	for {
		tok, err := dec.Token()
		if err != nil && err != io.EOF && !cutShort(err) {
			return nil, nil, err
		}
		if tok == nil {
			return attrs, text, nil
		}
		switch t := tok.(type) {
		case xml.StartElement:
			for _, a := range t.Attr {
				attrs = append(attrs, a.Value)
			}
		case xml.CharData:
			if c := strings.TrimSpace(string(t)); c != "" {
				text = append(text, c)
			}
		}
	}
}

func cutShort(err error) bool {
	var se *xml.SyntaxError
	return errors.As(err, &se) && se.Msg == "unexpected EOF"
}
