variable "name" {
  description = "Name prefix of every resource (vms-ENV)"
  type        = string
}

variable "tags" {
  description = "Tags of every taggable resource (on top of the provider default_tags)"
  type        = map(string)
  default     = {}
}

variable "region" {
  description = "AWS region (for the S3 gateway endpoint's service name)"
  type        = string
}

variable "cidr" {
  description = "VPC CIDR block"
  type        = string
  default     = "10.40.0.0/16"
}

variable "azs" {
  description = "Availability zones (two or more)"
  type        = list(string)
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all zones (staging) instead of one per zone (prod)"
  type        = bool
  default     = false
}
