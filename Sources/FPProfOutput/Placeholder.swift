// Placeholder until the output writers land.
