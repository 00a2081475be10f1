# A stand-in model in plain POSIX sh: reads input.txt, writes output/series.csv.
# Usage: sh model.sh input.txt
set -eu
[ "$#" -eq 1 ] || { echo "usage: sh model.sh input.txt" >&2; exit 2; }
while IFS='=' read -r key value; do
  case "$key" in
    initial) initial=$value ;;
    decay_percent) decay_percent=$value ;;
    steps) steps=$value ;;
  esac
done < "$1"
for name in initial decay_percent steps; do
  eval "value=\${$name:-}"
  case "$value" in
    '' | *[!0-9]*) echo "input.txt: $name must be a whole number, got '$value'" >&2; exit 2 ;;
  esac
done

mkdir -p output
value=$initial
step=0
echo "step,value" > output/series.csv
while [ "$step" -le "$steps" ]; do
  echo "$step,$value" >> output/series.csv
  value=$((value * (100 - decay_percent) / 100))
  step=$((step + 1))
done
echo "model: $steps steps from $initial at $decay_percent% a step; wrote output/series.csv"
