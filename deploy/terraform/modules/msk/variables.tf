variable "name" {
  description = "Name prefix of every resource (vms-ENV)"
  type        = string
}

variable "tags" {
  description = "Tags of every taggable resource (on top of the provider default_tags)"
  type        = map(string)
  default     = {}
}

variable "vpc_id" {
  type = string
}

variable "subnet_ids" {
  description = "One private subnet per broker zone"
  type        = list(string)
}

variable "client_security_group_ids" {
  type = list(string)
}

variable "kafka_version" {
  type    = string
  default = "3.6.0"
}

variable "broker_count" {
  description = "A multiple of the number of subnets"
  type        = number
  default     = 2
}

variable "instance_type" {
  type    = string
  default = "kafka.t3.small"
}

variable "volume_size_gb" {
  type    = number
  default = 100
}
