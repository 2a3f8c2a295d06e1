"""Pure circulation and privacy rules: functions of values and `now`, standard library only."""
