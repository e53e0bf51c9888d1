package inspect

import (
	"fmt"
	"strings"
)

// Route binds a policy to the requests it judges. The first route that
// matches wins; an empty field matches anything.
type Route struct {
	Policy Policy
	// Name matches a policy named in Envoy route metadata
	// (filter_metadata.bulwark.policy) or, failing that, xds.route_name.
	RouteName  string
	Host       string
	PathPrefix string
}

// Set is the default policy plus per-route ones.
type Set struct {
	Default Policy
	Routes  []Route
}

// Key is what Envoy tells Bulwark about the request's route.
type Key struct {
	// Policy is a policy name set in the route's metadata.
	Policy string
	// RouteName is the xds.route_name attribute.
	RouteName string
	Host      string
	Path      string
}

// Select picks the policy for k: an explicit policy name first, then the
// Envoy route name, then host and path prefix, then the default.
func (s *Set) Select(k Key) Policy {
	if k.Policy != "" {
		for _, r := range s.Routes {
			if r.Policy.Name == k.Policy {
				return r.Policy
			}
		}
	}
	if k.RouteName != "" {
		for _, r := range s.Routes {
			if r.RouteName != "" && r.RouteName == k.RouteName {
				return r.Policy
			}
		}
	}
	host := strings.ToLower(k.Host)
	if i := strings.LastIndexByte(host, ':'); i > 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	for _, r := range s.Routes {
		if (r.Host == "" || strings.EqualFold(r.Host, host)) && (r.PathPrefix == "" || strings.HasPrefix(k.Path, r.PathPrefix)) &&
			(r.Host != "" || r.PathPrefix != "") {
			return r.Policy
		}
	}
	return s.Default
}

// Validate checks every policy and that names are unique.
func (s *Set) Validate() error {
	if err := s.Default.Validate(); err != nil {
		return fmt.Errorf("default policy: %w", err)
	}
	seen := map[string]bool{}
	for i, r := range s.Routes {
		if r.Policy.Name == "" {
			return fmt.Errorf("%w: policies[%d]: name is required", ErrInvalid, i)
		}
		if seen[r.Policy.Name] {
			return fmt.Errorf("%w: policies[%d]: name %q is used twice", ErrInvalid, i, r.Policy.Name)
		}
		seen[r.Policy.Name] = true
		if err := r.Policy.Validate(); err != nil {
			return fmt.Errorf("policies[%d] (%s): %w", i, r.Policy.Name, err)
		}
	}
	return nil
}
