public enum CumulusProjectionsPlaceholder {}
