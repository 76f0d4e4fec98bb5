import ArgumentParser
import CumulusProjections

extension ReportInterval: ExpressibleByArgument {}
