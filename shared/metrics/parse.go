package metrics

import (
	"bufio"
	"encoding/json"
	"io"
	"sort"
	"strings"
)

// Point is one data point read back from EMF output, as CloudWatch would
// extract it.
type Point struct {
	Name  string
	Value float64
	Unit  string
	// Dims are the point's dimensions other than Service, "Name=Value"
	// sorted and joined with ",", so tests can compare them as strings.
	Dims string
}

// Parse reads EMF lines (other lines are skipped) back into points.
func Parse(r io.Reader) ([]Point, error) {
	var out []Point
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			continue
		}
		meta, ok := line["_aws"].(map[string]any)
		if !ok {
			continue
		}
		directives, _ := meta["CloudWatchMetrics"].([]any)
		for _, d := range directives {
			dir, _ := d.(map[string]any)
			if dir["Namespace"] != Namespace {
				continue
			}
			var dims []string
			sets, _ := dir["Dimensions"].([]any)
			for _, set := range sets {
				names, _ := set.([]any)
				for _, n := range names {
					name, _ := n.(string)
					if v, ok := line[name].(string); ok && name != "Service" && !contains(dims, name+"="+v) {
						dims = append(dims, name+"="+v)
					}
				}
			}
			sort.Strings(dims)
			metrics, _ := dir["Metrics"].([]any)
			for _, mm := range metrics {
				def, _ := mm.(map[string]any)
				name, _ := def["Name"].(string)
				unit, _ := def["Unit"].(string)
				v, _ := line[name].(float64)
				out = append(out, Point{Name: name, Value: v, Unit: unit, Dims: strings.Join(dims, ",")})
			}
		}
	}
	return out, sc.Err()
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
