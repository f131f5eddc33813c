# The handler: gets the event JSON as $1, prints the response JSON.
handler() {
  echo "shell handler got: $1" >&2
  printf '{"message":"Hello from a shell runtime","event":%s}' "$1"
}
