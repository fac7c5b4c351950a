variable "name" {
  description = "Name prefix of every resource (vms-ENV)"
  type        = string
}

variable "tags" {
  description = "Tags of every taggable resource (on top of the provider default_tags)"
  type        = map(string)
  default     = {}
}

variable "origin_domain_name" {
  description = "Host name the ALB's certificate is for (a DNS record pointing at the ALB)"
  type        = string
}

variable "aliases" {
  description = "Host names viewers use"
  type        = list(string)
}

variable "certificate_arn_us_east_1" {
  description = "ACM certificate for the aliases, in us-east-1 (CloudFront's requirement)"
  type        = string
}

variable "static_path_patterns" {
  description = "Paths cached at the edge (static files only; never API, live or playback)"
  type        = list(string)
  default     = ["/static/*", "/favicon.ico"]
}

variable "price_class" {
  type    = string
  default = "PriceClass_100"
}
