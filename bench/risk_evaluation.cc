// Placeholder: replaced by the helper that owns this file.
int main() { return 0; }
