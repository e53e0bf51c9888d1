package envoy

import (
	"errors"
	"fmt"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
	"sigs.k8s.io/yaml"

	// Every extension our configs name in a typed_config must be linked in,
	// otherwise protojson cannot resolve the Any and decoding fails with
	// "unable to resolve type". Add an import here when a config starts
	// using a new extension.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/file/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/health_check/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
)

// DecodeBootstrap parses an Envoy bootstrap written in YAML or JSON.
// Unknown fields are errors, as they are for Envoy itself.
func DecodeBootstrap(doc []byte) (*bootstrapv3.Bootstrap, error) {
	b := &bootstrapv3.Bootstrap{}
	if err := DecodeInto(doc, b); err != nil {
		return nil, err
	}
	return b, nil
}

// DecodeInto parses YAML or JSON into any Envoy API message, strictly.
func DecodeInto(doc []byte, m proto.Message) error {
	js, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return fmt.Errorf("yaml: %w", err)
	}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(js, m); err != nil {
		return fmt.Errorf("%s: %w", m.ProtoReflect().Descriptor().FullName(), err)
	}
	return nil
}

type allValidator interface{ ValidateAll() error }

// ValidateDeep runs the protoc-gen-validate rules on m and on every message
// packed in an Any beneath it, recursively. The generated ValidateAll stops
// at Any fields (it only sees a type URL and bytes), and nearly everything
// interesting in an Envoy config, the filters included, lives in one.
func ValidateDeep(m proto.Message) error {
	return validateDeep(m.ProtoReflect(), string(m.ProtoReflect().Descriptor().FullName()))
}

func validateDeep(m protoreflect.Message, path string) error {
	var errs []error
	if v, ok := m.Interface().(allValidator); ok {
		if err := v.ValidateAll(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", path, err))
		}
	}
	if a, ok := m.Interface().(*anypb.Any); ok {
		inner, err := a.UnmarshalNew()
		if err != nil {
			return errors.Join(append(errs, fmt.Errorf("%s: %w", path, err))...)
		}
		errs = append(errs, validateDeep(inner.ProtoReflect(), path+"<"+string(inner.ProtoReflect().Descriptor().FullName())+">"))
		return errors.Join(errs...)
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind && fd.Kind() != protoreflect.GroupKind {
			return true
		}
		p := path + "." + string(fd.Name())
		switch {
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				errs = append(errs, validateDeep(l.Get(i).Message(), fmt.Sprintf("%s[%d]", p, i)))
			}
		case fd.IsMap():
			if fd.MapValue().Kind() != protoreflect.MessageKind {
				return true
			}
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				errs = append(errs, validateDeep(mv.Message(), fmt.Sprintf("%s[%s]", p, k.String())))
				return true
			})
		default:
			errs = append(errs, validateDeep(v.Message(), p))
		}
		return true
	})
	return errors.Join(errs...)
}
